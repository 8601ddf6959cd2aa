from django.apps import AppConfig


class StreamersConfig(AppConfig):
    name = "apps.streamers"
    label = "streamers"
