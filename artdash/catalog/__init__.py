"""Editorial operations on titles and artwork variants, tags, personas and viewing history.

Every function takes a Session (the caller owns the transaction) and, when it changes
data, the acting user. Functions return frozen dataclasses, never ORM objects.

The package is laid out by problem — ``titles``, ``variants``, ``uploads`` (an image file
becomes a draft variant), ``views`` (what those return), ``text`` (the rules for typed text),
``taxonomy``, ``personas``, ``history``, ``manifest`` (many titles and images in one step),
``annotations`` (faces, focal point, cast shot), ``stills`` (picked video frames and their crops) — and this module is its public face: everything a
page, the CLI or a notebook calls on the catalog is importable from ``artdash.catalog``.

Its modules load when first used (:mod:`artdash.lazy`): a process that needs one rule — the
decision service reads ``eligibility`` — does not load the video and face code of ``stills``
and ``annotations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artdash import lazy

if TYPE_CHECKING:
    from artdash.catalog.annotations import annotate_variants, set_focal_point
    from artdash.catalog.manifest import ImageSource, ManifestError, ManifestReport, import_manifest
    from artdash.catalog.stills import DEFAULT_RATIOS, Pick, StillOutcome, add_crops, add_stills
    from artdash.catalog.taxonomy import normalise_tag_name
    from artdash.catalog.text import FIRST_FILM_YEAR, MAX_SYNOPSIS, MAX_TITLE_NAME
    from artdash.catalog.titles import (
        catalog_counts,
        create_title,
        get_title,
        list_titles,
        title_choices,
        update_title,
    )
    from artdash.catalog.uploads import ingest_image, suggest_visual_tags, upload_files
    from artdash.catalog.variants import (
        bulk_status,
        bulk_tag,
        decide_suggestion,
        delete_draft,
        editors_pick,
        get_variant,
        lineage_root,
        list_variants,
        reopen_suggestion,
        set_editors_pick,
        set_lineage,
        set_variant_label,
        set_variant_status,
        set_variant_tags,
        undo_status,
        undo_tags,
        variant_tag_labels,
        variants_by_id,
    )
    from artdash.catalog.views import (
        STATUS_TRANSITIONS,
        NearDuplicate,
        SuggestionView,
        TitleView,
        UploadReport,
        UploadResult,
        VariantView,
    )
    from artdash.db.models import DEVICES, LINEAGE_KINDS, TITLE_KINDS, VARIANT_STATUSES
    from artdash.errors import ArtdashError

__all__ = [
    "DEVICES", "ImageSource", "LINEAGE_KINDS", "ManifestError", "ManifestReport", "import_manifest", "TITLE_KINDS", "VARIANT_STATUSES", "ArtdashError", "FIRST_FILM_YEAR", "MAX_SYNOPSIS", "MAX_TITLE_NAME", "STATUS_TRANSITIONS", "NearDuplicate",
    "SuggestionView", "TitleView", "UploadReport", "UploadResult", "VariantView", "bulk_status", "bulk_tag", "catalog_counts",
    "create_title", "decide_suggestion", "delete_draft", "editors_pick", "get_title", "get_variant",
    "ingest_image", "lineage_root", "list_titles", "list_variants", "normalise_tag_name", "set_editors_pick",
    "set_lineage", "set_variant_label", "set_variant_status", "set_variant_tags", "suggest_visual_tags",
    "title_choices", "update_title", "upload_files", "variant_tag_labels", "variants_by_id",
    "DEFAULT_RATIOS", "Pick", "StillOutcome", "add_crops", "add_stills", "reopen_suggestion", "undo_status", "undo_tags", "annotate_variants", "set_focal_point",
]

__getattr__, __dir__ = lazy.exports(__name__, {
    "artdash.catalog.annotations": ("annotate_variants", "set_focal_point",),
    "artdash.catalog.manifest": ("ImageSource", "ManifestError", "ManifestReport", "import_manifest",),
    "artdash.catalog.stills": ("DEFAULT_RATIOS", "Pick", "StillOutcome", "add_crops", "add_stills",),
    "artdash.catalog.taxonomy": ("normalise_tag_name",),
    "artdash.catalog.text": ("FIRST_FILM_YEAR", "MAX_SYNOPSIS", "MAX_TITLE_NAME",),
    "artdash.catalog.titles": ("catalog_counts", "create_title", "get_title", "list_titles", "title_choices", "update_title",),
    "artdash.catalog.uploads": ("ingest_image", "suggest_visual_tags", "upload_files",),
    "artdash.catalog.variants": ("bulk_status", "bulk_tag", "decide_suggestion", "delete_draft", "editors_pick", "get_variant", "lineage_root", "list_variants", "reopen_suggestion", "set_editors_pick", "set_lineage", "set_variant_label", "set_variant_status", "set_variant_tags", "undo_status", "undo_tags", "variant_tag_labels", "variants_by_id",),
    "artdash.catalog.views": ("STATUS_TRANSITIONS", "NearDuplicate", "SuggestionView", "TitleView", "UploadReport", "UploadResult", "VariantView",),
    "artdash.db.models": ("DEVICES", "LINEAGE_KINDS", "TITLE_KINDS", "VARIANT_STATUSES",),
    "artdash.errors": ("ArtdashError",),
})
