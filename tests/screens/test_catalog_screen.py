"""The Catalog screen (AppTest)."""



from apptest import assert_clean, labelled, open_page, shown

from artdash import catalog


def test_catalog_page_empty_state_offers_the_demo(empty_ws):
    at = open_page("catalog")
    assert_clean(at)
    assert any("catalog is empty" in i.value for i in at.info)
    labelled(at.button, "Load demo catalog").click().run()
    assert_clean(at)
    assert any("Loaded 14 demo titles" in s.value for s in at.success)
    assert [m.value for m in at.metric][:1] == ["14"]


def test_catalog_page_lists_titles_and_filters(demo_ws):
    at = open_page("catalog")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Titles"] == "2" and int(metrics["Variants"]) >= 6
    assert "2 of 2 titles" in [c.value for c in at.caption]
    labelled(at.text_input, "Search titles").set_value("harbour").run()
    assert "1 of 2 titles" in [c.value for c in at.caption]
    labelled(at.text_input, "Search titles").set_value("zzz").run()
    assert any("No title matches" in w.value for w in at.warning)


def test_catalog_page_creates_a_title_and_explains_a_bad_one(demo_ws):
    at = open_page("catalog")
    form_button = labelled(at.button, "Create title")
    form_button.click().run()  # no name
    assert_clean(at)
    assert any("needs a name" in e.value for e in at.error)
    with demo_ws.session() as s:
        assert catalog.catalog_counts(s)["titles"] == 2
    labelled(at.text_input, "Name *").set_value("Paper Boats")
    labelled(at.text_input, "Year").set_value("2024")
    labelled(at.multiselect, "Genres").set_value(["family", "animation"])
    labelled(at.button, "Create title").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        created = [t for t in catalog.list_titles(s) if t.name == "Paper Boats"]
    assert created and created[0].year == 2024 and created[0].genres == ("animation", "family")


def test_catalog_pages_through_many_titles(empty_ws):
    with empty_ws.transaction() as s:
        for i in range(30):
            catalog.create_title(s, name=f"Title {i:02d}", actor="t")
    at = open_page("catalog")
    assert_clean(at)
    assert len([b for b in at.get("page_link") if b.proto.label == "Open"]) == 24
    assert "30 of 30 titles" in [c.value for c in at.caption]
    at.button_group[0].set_value(2).run()
    assert_clean(at)
    assert len([b for b in at.get("page_link") if b.proto.label == "Open"]) == 6


def test_catalog_page_imports_a_manifest_with_a_zip_or_lists_every_problem(empty_ws):
    import io
    import zipfile

    import artimages

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("couple.png", artimages.png(seed=120))
        zf.writestr("lighthouse.png", artimages.png((300, 301), seed=121))   # two warnings: small, square
    manifest = b"title,year,image,label,status\nHarbour Lights,2019,couple.png,Couple,active\n" \
               b"Harbour Lights,2019,lighthouse.png,,\nNight <b>Train</b>,,missing.png,,\n"
    at = open_page("catalog")
    at.get("file_uploader")[0].set_value([("catalog.csv", manifest, "text/csv")])
    at.get("file_uploader")[1].set_value([("images.zip", buffer.getvalue(), "application/zip")])
    labelled(at.button, "Import titles and images").click().run()
    assert_clean(at)
    assert any("Nothing imported" in e.value for e in at.error)
    assert [shown(e.value).lower().count("nothing imported") for e in at.error] == [1]    # said once
    problems = at.dataframe[0].value
    assert problems["line"].tolist() == [4] and "missing.png" in problems["problem"][0]
    with empty_ws.session() as s:
        assert catalog.catalog_counts(s)["titles"] == 0
    at.get("file_uploader")[0].set_value([("catalog.csv", manifest.rsplit(b"\nNight", 1)[0] + b"\n", "text/csv")])
    labelled(at.button, "Import titles and images").click().run()
    assert_clean(at)
    assert any("Imported 2 images: 1 new titles" in s.value for s in at.success)
    said = " ".join(s.value for s in at.success)      # images counted, not warnings (it said "5 image(s)" of 3)
    assert "1 of the 2 images came with warnings (2 in all)" in said
    with empty_ws.session() as s:
        assert catalog.catalog_counts(s)["active"] == 1
