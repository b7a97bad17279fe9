"""No views: the tests use the ORM only."""
urlpatterns = []
