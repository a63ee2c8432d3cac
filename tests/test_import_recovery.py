"""Member imports recover from lost job messages and killed workers, and refuse NULs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import ImportStatus, Member, MemberImport
from loyalty.services.imports import (
    ImportFileError,
    member_import_create,
    member_import_run,
    member_imports_stale,
)
from tests import factories

pytestmark = pytest.mark.django_db

FILE = b"customer_id,email,first_name,last_name,points\n7,a@example.com,Ada,L,120\n"


def test_a_file_with_nul_characters_is_refused():
    with pytest.raises(ImportFileError, match="NUL"):
        member_import_create(shop=factories.shop(), csv_bytes=FILE + b"8,b\x00@x.com,B,C,5\n")


def test_lost_and_abandoned_imports_are_sent_again_and_run_once():
    shop = factories.shop()
    lost = member_import_create(shop=shop, csv_bytes=FILE)
    killed = member_import_create(shop=shop, csv_bytes=FILE)
    MemberImport.objects.filter(pk=killed.pk).update(status=ImportStatus.RUNNING)
    fresh = member_import_create(shop=shop, csv_bytes=FILE)
    now = timezone.now()
    MemberImport.objects.exclude(pk=fresh.pk).update(created_at=now - timedelta(hours=3))

    assert sorted(member_imports_stale(now=now)) == sorted([lost.pk, killed.pk])
    assert MemberImport.objects.get(pk=killed.pk).status == ImportStatus.QUEUED
    member_import_run(import_id=lost.pk)
    member_import_run(import_id=lost.pk)  # a duplicate message: the first run already won
    member_import_run(import_id=killed.pk)
    assert Member.objects.get(customer_id=7).balance == 120  # credited once in all
    assert MemberImport.objects.get(pk=lost.pk).status == ImportStatus.DONE
