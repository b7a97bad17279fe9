"""The legacy demo's one model.

``isbn`` came with the second South migration (0002), so a test can tell
that the migrations, not syncdb, built the test database.
"""
from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=100)
    copies = models.PositiveIntegerField(default=0)
    added = models.DateTimeField(auto_now_add=True)
    isbn = models.CharField(max_length=20, blank=True, default='')

    def __unicode__(self):
        return u'%s (%d)' % (self.title, self.copies)

    def as_dict(self):
        return {'id': self.pk, 'title': self.title, 'copies': self.copies,
                'isbn': self.isbn, 'added': self.added.isoformat()}
