"""The WSGI application that gunicorn serves (``project/gunicorn.py``).

Each worker imports the whole app as it starts rather than on its first
request: the URLconf brings in every view, form and chart module (matplotlib
among them, some 0.2 s), which the first patient to reach that worker would
otherwise wait for. What is loaded then lasts the worker's life, so
``gc.freeze()`` sets it apart from Python's garbage collector: its full
collections went through those 140,000 objects every few hundred requests,
holding a request up some 60 ms each time (measured in process, check-ins
at 100 k reports).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports every view)
gc.freeze()
