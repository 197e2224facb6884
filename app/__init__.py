"""SupportFlow: customer-support orchestration on LangGraph.

`from app import SupportDesk, build_supervisor` — imported lazily so that the graphs and
agents can use `app.settings`/`app.services` without a circular import.
"""

__all__ = ["SupportDesk", "build_supervisor"]


def __getattr__(name: str):
    if name in __all__:
        from app import api

        return getattr(api, name)
    raise AttributeError(name)
