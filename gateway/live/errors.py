"""A failure of a live stream, told to the client as `server.error {code, detail}`."""

from __future__ import annotations

from protocol.api.live import ServerErrorData
from protocol.errors import ErrorCode


class StreamError(Exception):
    """`fatal`: the stream cannot go on (the route closes it); otherwise the offending frame
    or request is dropped and the stream continues."""

    def __init__(self, code: ErrorCode, detail: str, *, fatal: bool = False) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fatal = fatal

    def data(self) -> ServerErrorData:
        return ServerErrorData(code=self.code, detail=self.detail)

    def __repr__(self) -> str:
        return f"StreamError({self.code.value}, {self.detail!r}, fatal={self.fatal})"
