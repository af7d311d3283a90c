"""Session-state keys, in one place."""

FLASH = "flash"                    # (kind, message) shown once after a rerun
SELECTED_VARIANT = "selected_variant"
UPLOAD_REPORT = "upload_report"    # the last UploadReport, per title
UPLOADER_GENERATION = "uploader_generation"  # bumped to clear the file uploader after an upload
TITLE_PICKER = "title_picker"
SIGNED_IN = "signed_in"            # (name, role) of the signed-in local account
ACTOR = "actor"                    # (name, role) acting in this run: set by app.py for every page
SIGNED_OUT = "signed_out"          # this browser session signed out: ignore (and clear) the sign-in cookie
PENDING_COOKIE = "pending_cookie"  # a sign-in token kept in the browser (set on every run while signed in)
DEEP_LINK = "deep_link"          # the page a signed-out visitor asked for: opened after sign-in
DISCOVERY = "discovery"            # per title: the last contact sheet, the video's hash, picks and rejects
DISCOVERY_GENERATION = "discovery_generation"  # bumped to clear the video uploader after a search
