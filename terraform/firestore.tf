# Most projects that already use Firestore have their (default) database: creating it again fails.
resource "google_firestore_database" "default" {
  count       = var.firestore_database == "create" ? 1 : 0
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"
  depends_on  = [google_project_service.apis]
}

locals {
  firestore_database = "(default)"
  # Every collection speedcam writes carries expireAt: Firestore's TTL deletes the state after retention_days.
  ttl_collections = local.resources.ttl_collections
  # Fields never queried lose every single-field index ("none"): the large maps would add hundreds of
  # index entries per write, the monotonically increasing ones would make hot spots. Fields the flush
  # queries by range keep the ascending index only ("ascending").
  index_exemptions = local.resources.index_exemptions
}

resource "google_firestore_field" "ttl" {
  for_each   = toset(local.ttl_collections)
  database   = local.firestore_database
  collection = each.value
  field      = "expireAt"
  ttl_config {}
  # The TTL field itself is never queried.
  index_config {}
  depends_on = [google_firestore_database.default, google_project_service.apis]
}

resource "google_firestore_field" "index" {
  for_each   = local.index_exemptions
  database   = local.firestore_database
  collection = split("/", each.key)[0]
  field      = split("/", each.key)[1]
  index_config {
    dynamic "indexes" {
      for_each = each.value == "ascending" ? ["ASCENDING"] : []
      content {
        order       = indexes.value
        query_scope = "COLLECTION"
      }
    }
  }
  depends_on = [google_firestore_database.default, google_project_service.apis]
}
