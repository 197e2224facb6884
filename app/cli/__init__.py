"""SupportFlow's command line (`python -m app`, the `supportflow` script): the root app is in `app.cli.main`."""

from app.cli.main import app, main

__all__ = ["app", "main"]
