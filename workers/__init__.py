"""Celery app, tasks and beat schedule; and the page processing that the tasks run."""
