"""Broker and result folders shared by the Celery worker and the test's client (no Django)."""
from __future__ import absolute_import, division, print_function

import os


def configure(app, folder):
    """Point ``app`` at kombu's filesystem transport and a file result store under ``folder``."""
    queue = os.path.join(folder, 'queue')
    results = os.path.join(folder, 'results')
    control = os.path.join(folder, 'control')  # else kombu makes ./control
    for path in (queue, results, control):
        if not os.path.isdir(path):
            os.makedirs(path)
    app.conf.broker_url = 'filesystem://'
    app.conf.broker_transport_options = {
        'data_folder_in': queue, 'data_folder_out': queue, 'control_folder': control,
        'store_processed': False}
    app.conf.result_backend = 'file://' + results
    app.conf.broker_connection_retry_on_startup = True
    return app
