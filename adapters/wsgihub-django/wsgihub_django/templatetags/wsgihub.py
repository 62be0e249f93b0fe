"""``{% load wsgihub %}``: the hub in Django templates.

::

    {% load wsgihub %}
    <a href="{% hub_url "new:user" uid=5 %}">profile</a>
    {% hub_url "legacy:blog:detail" pk=post.pk _external=True as link %}{{ link }}

``hub_url`` takes the endpoint as ``mount:endpoint`` and the values as
keyword arguments, like :meth:`wsgihub.Hub.url_for` (``_external``,
``_anchor``, ``_scheme`` included); ``as var`` stores the URL instead of
printing it.  The hub is the one serving the request being rendered, else
the one that mounted this Django project.  Enable the library by adding
``"wsgihub_django"`` to ``INSTALLED_APPS``.
"""

from __future__ import annotations

from typing import Any

from django import template

from ..hubs import hub_for

register = template.Library()


@register.simple_tag(takes_context=True)
def hub_url(context: template.Context, endpoint: str, **values: Any) -> str:
    """The URL of ``endpoint`` (``mount:endpoint``) on the hub, escaped when printed."""
    return hub_for(context.get("request")).url_for(endpoint, **values)
