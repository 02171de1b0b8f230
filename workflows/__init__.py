"""Workflow definitions: pure Python, importing nothing from ``app``, Flask or SQLAlchemy."""
