from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "graftsite.legacy.blog"
    label = "blog"
    verbose_name = "Blog"
