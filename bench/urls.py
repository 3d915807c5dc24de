"""learntrace's URLs plus the baseline: a bare Django view that does one upsert and one insert."""

import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_POST

from learntrace.org.access import login_required


@require_POST
@login_required
def bare_beat(request):
    """The least a heartbeat endpoint can do: parse the same request, upsert a counter, insert a row."""
    attempt, beat = request.POST["attempt"], json.loads(request.POST["beat"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_counter (attempt, beats) VALUES (%s, 1) "
            "ON CONFLICT (attempt) DO UPDATE SET beats = bench_counter.beats + 1", [attempt])
        cursor.execute("INSERT INTO bench_beat (attempt, seq, body) VALUES (%s, %s, %s)",
                       [attempt, beat["seq"], json.dumps(beat)])
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare-beat/", bare_beat),
    path("", include("learntrace.urls")),
]
