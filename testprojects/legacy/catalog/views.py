"""JSON views: a read, a write inside a transaction, and the pool statistics."""
try:
    import json
except ImportError:  # Python < 2.6
    from django.utils import simplejson as json

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from catalog.models import Book

try:
    import dbpool
except ImportError:  # the stock ENGINE needs no dbpool
    dbpool = None

# Django 1.6 has atomic() (and deprecates commit_on_success); 1.3 to 1.5 have
# commit_on_success, usable as a context manager since 1.3.
commit_on_success = getattr(transaction, 'atomic', None) or transaction.commit_on_success


def json_response(data, status=200):
    # HttpResponse(content_type=...) exists on 1.3 (JsonResponse came in 1.7).
    response = HttpResponse(json.dumps(data), content_type='application/json')
    response.status_code = status
    return response


def backend_pid():
    """The server process id of the connection serving this request."""
    cursor = connection.cursor()  # not a context manager before Django 1.7
    try:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def book_list(request):
    """GET /books/: a count, the latest five books, and who served them."""
    if request.method != 'GET':
        return HttpResponseNotAllowed(['GET'])
    latest = [book.as_dict() for book in Book.objects.order_by('-id')[:5]]
    return json_response({
        'count': Book.objects.count(),
        'latest': latest,
        'backend_pid': backend_pid(),
    })


@csrf_exempt
def book_add(request):
    """POST (or GET) /books/add/: create one book inside a transaction."""
    if request.method not in ('GET', 'POST'):
        return HttpResponseNotAllowed(['GET', 'POST'])
    params = request.POST if request.method == 'POST' else request.GET
    title = params.get('title') or 'book'
    try:
        copies = int(params.get('copies') or 1)
    except ValueError:
        return json_response({'error': 'copies must be a whole number'}, status=400)
    with commit_on_success():
        book = Book.objects.create(title=title[:100], copies=max(copies, 0),
                                   isbn=(params.get('isbn') or '')[:20])
        pid = backend_pid()
    return json_response({'book': book.as_dict(), 'backend_pid': pid}, status=201)


def pool_stats(request):
    """GET /pool/: dbpool.pool_stats() of this process (empty with the stock engine)."""
    return json_response(dbpool.pool_stats() if dbpool is not None else [])
