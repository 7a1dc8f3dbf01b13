"""pyatlan's certificate and announcement calls (a partial update by unique attribute, PUT
/api/meta/entity/uniqueAttribute/type/…) against a live server, and what the asset page then shows."""

from __future__ import annotations

import pytest
from pyatlan.errors import NotFoundError, PermissionError
from pyatlan.model.assets import Table
from pyatlan.model.core import Announcement
from pyatlan.model.enums import AnnouncementType, CertificateStatus

from gazetteer.auth.service import create_token
from gazetteer.store import open_engine


def test_update_and_remove_a_certificate_and_an_announcement_with_pyatlan(crawled, server) -> None:
    client, _, catalog = crawled
    qualified_name = next(qn for qn in catalog["Table"] if qn.endswith("/sales/orders"))
    updated = client.asset.update_certificate(Table, qualified_name, "orders", CertificateStatus.VERIFIED,
                                              message="Reconciled with finance")
    assert updated is not None and updated.qualified_name == qualified_name
    table = client.asset.get_by_qualified_name(qualified_name, Table)
    assert table.certificate_status == CertificateStatus.VERIFIED
    assert table.certificate_status_message == "Reconciled with finance"
    assert table.certificate_updated_by == "admin"
    client.asset.update_announcement(Table, qualified_name, "orders", Announcement(
        announcement_title="Moving", announcement_message="to sales_v2", announcement_type=AnnouncementType.WARNING))
    assert client.asset.get_by_qualified_name(qualified_name, Table).announcement_title == "Moving"
    with server.client() as http:  # the asset page shows what pyatlan set
        page = http.get(f"/assets/{table.guid}", headers={"Accept": "text/html"},
                        cookies={"gazetteer_token": server.ADMIN_TOKEN})
        assert "Reconciled with finance" in page.text and "cert-verified" in page.text

    assert client.asset.remove_certificate(Table, qualified_name, "orders") is not None
    table = client.asset.get_by_qualified_name(qualified_name, Table)
    assert table.certificate_status is None and table.certificate_status_message is None
    with pytest.raises(NotFoundError):  # a partial update never creates an asset
        client.asset.update_certificate(Table, qualified_name + "_nope", "orders_nope", CertificateStatus.DRAFT)

    engine = open_engine(server.database_url)
    guest_token = create_token(engine, "guest-certifier", "$guest")
    engine.dispose()
    from pyatlan.client.atlan import AtlanClient

    guest = AtlanClient(base_url=server.url, api_key=guest_token)
    with pytest.raises(PermissionError):
        guest.asset.update_certificate(Table, qualified_name, "orders", CertificateStatus.DEPRECATED)
    assert client.asset.get_by_qualified_name(qualified_name, Table).certificate_status is None
