"""Channel adapters: one module per platform, each with `send(channel, message) -> Outcome`."""

from importlib import import_module

from learntrace.notify.channels.base import Message, Outcome  # noqa: F401


def adapter_for(kind: str):
    """The module that sends over channels of this kind."""
    return import_module(f"learntrace.notify.channels.{kind}")
