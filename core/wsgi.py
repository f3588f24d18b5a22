"""The node as a WSGI server runs it: ``gunicorn 'core.wsgi:app'``.

After the app is built, every object it made is moved out of the garbage collector's view
(``gc.freeze``): a full collection then walks what requests create, not the ~130,000
long-lived objects of the app and its libraries — which cost ~90 ms every few hundred
requests here, a pause some request would wait through. Tests build apps with
``create_app`` directly and are not frozen.
"""

import gc

from core.app import create_app

app = create_app()
gc.collect()
gc.freeze()
