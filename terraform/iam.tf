# One service account per function, holding only the grants listed for it in local.functions.
resource "google_service_account" "functions" {
  for_each     = local.functions
  account_id   = substr("${var.name_prefix}-${each.key}", 0, 30)
  display_name = "speedcam ${each.key} function"
}

locals {
  grants = merge([
    for fn, spec in local.functions : {
      for g in spec.grants : "${fn}|${g.role}|${g.on}|${g.target}" => merge(g, { function = fn })
    }
  ]...)
}

resource "google_project_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "project" }
  project  = var.project_id
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.functions[each.value.function].email}"
}

resource "google_pubsub_topic_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "topic" }
  topic    = google_pubsub_topic.topics[each.value.target].name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.functions[each.value.function].email}"
}

resource "google_bigquery_dataset_iam_member" "grants" {
  for_each   = { for k, g in local.grants : k => g if g.on == "dataset" }
  dataset_id = google_bigquery_dataset.speedcam.dataset_id
  role       = each.value.role
  member     = "serviceAccount:${google_service_account.functions[each.value.function].email}"
}

resource "google_storage_bucket_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "bucket" }
  bucket   = each.value.target == "captures" ? google_storage_bucket.captures.name : google_storage_bucket.evidence.name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.functions[each.value.function].email}"
}

# Each trigger invokes its own function as that function's service account.
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.functions
  location = var.region
  service  = google_cloudfunctions2_function.functions[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.functions[each.key].email}"
}

resource "google_project_iam_member" "event_receiver" {
  for_each = local.functions
  project  = var.project_id
  role     = "roles/eventarc.eventReceiver"
  member   = "serviceAccount:${google_service_account.functions[each.key].email}"
}

# Cloud Scheduler publishes the flush ticks as its own service account.
resource "google_service_account" "scheduler" {
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "speedcam flush scheduler"
}

resource "google_pubsub_topic_iam_member" "scheduler" {
  topic  = google_pubsub_topic.topics["flush_ticks"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.scheduler.email}"
}
