"""The HTTP service (`python -m app serve`): FastAPI over `SupportDesk`, for chat widgets, e-mail gateways and help
desks. Every worker and host shares state through PostgreSQL and a Chroma server."""
