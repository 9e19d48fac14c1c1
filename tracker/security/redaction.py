"""Keep patient link tokens out of log lines.

Django logs the path of every 404 and 500 ("Not Found: /f/<token>/"), and
gunicorn logs every request line. A patient's token is the key to their
answers, so every log line passes through ``redact`` first.
"""

import logging
import re

_TOKEN_PATH = re.compile(r"/f/[^/\s?\"']+")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub("/f/[token]", text)


class RedactTokensFilter(logging.Filter):
    """A logging filter that rewrites the message with the tokens removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
