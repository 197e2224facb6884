"""SupportFlow: customer-support orchestration on LangGraph.

`from app import SupportDesk, build_supervisor` is the public Python API. It is resolved on first use so
that `python -m app`, the console and Studio do not pay for the desk's imports when they don't need them.
"""

__all__ = ["SupportDesk", "build_supervisor"]


def __getattr__(name: str):
    if name in __all__:
        import app.desk  # deferred on purpose: see the module docstring

        return getattr(app.desk, name)
    raise AttributeError(name)
