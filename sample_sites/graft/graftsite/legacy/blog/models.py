"""A blog post: the legacy data the new Flask pages and the API read too."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]  # noqa: RUF012 (as the migration records it)

    def __str__(self) -> str:
        return self.title
