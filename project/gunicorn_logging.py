"""gunicorn's logger with patient link tokens removed from every line."""

from gunicorn.glogging import Logger

from tracker.security.redaction import RedactTokensFilter


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactTokensFilter())
