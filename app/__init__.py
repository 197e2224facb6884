"""SupportFlow: customer-support orchestration on LangGraph."""

from app.api import SupportDesk, build_supervisor

__all__ = ["SupportDesk", "build_supervisor"]
