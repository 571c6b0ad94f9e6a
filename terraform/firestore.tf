resource "google_firestore_database" "default" {
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"
  depends_on  = [google_project_service.apis]
}

locals {
  # Every collection speedcam writes carries expireAt: Firestore's TTL deletes the state after retention_days.
  ttl_collections = local.resources.ttl_collections

  # Fields never queried: no single-field index. The monotonically increasing ones would otherwise make
  # index hot spots at high write rates; the large maps would add hundreds of index entries per write.
  index_exemptions = {
    "passages/obs"                 = "passages"
    "passages/lastArrivalMs"       = "passages"
    "passages/firstSeenMs"         = "passages"
    "passages/lastSeenMs"          = "passages"
    "passages/decision"            = "passages"
    "passage_archive/obs"          = "passage_archive"
    "passage_archive/decision"     = "passage_archive"
    "wb_clicks/events"             = "wb_clicks"
    "wb_clicks/createdAt"          = "wb_clicks"
    "wb_transactions/events"       = "wb_transactions"
    "wb_transactions/createdAt"    = "wb_transactions"
    "wb_section_traffic/events"    = "wb_section_traffic"
    "wb_section_traffic/createdAt" = "wb_section_traffic"
    "window_state/ids"             = "window_state"
    "window_state/acc"             = "window_state"
    "dead_letters/payload"         = "dead_letters"
    "fines/issued_at"              = "fines"
  }
}

resource "google_firestore_field" "ttl" {
  for_each   = toset(local.ttl_collections)
  database   = google_firestore_database.default.name
  collection = each.value
  field      = "expireAt"
  ttl_config {}
  # The TTL field itself is never queried.
  index_config {}
}

resource "google_firestore_field" "no_index" {
  for_each   = local.index_exemptions
  database   = google_firestore_database.default.name
  collection = each.value
  field      = split("/", each.key)[1]
  index_config {}
}
