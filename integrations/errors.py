"""Errors raised while turning inbound messages into applied events."""


class EventRejected(Exception):
    """An event that cannot be applied until someone fixes data or mappings.

    ``code`` is stable (``unknown_reference``, ``unmapped_code``,
    ``invalid_value``); ``reason`` is the sentence customer service reads.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
