locals {
  catalog   = jsondecode(file("${path.module}/functions.json"))
  functions = local.catalog.functions
  # The functions push subscriptions deliver to (the others are called by people: the review function).
  push_functions = { for k, f in local.functions : k => f if f.trigger != null }

  # Each function's grants, flattened: "<function>|<role>|<on>|<target>" → grant.
  grants = merge([
    for fn, spec in local.functions : {
      for g in spec.grants : "${fn}|${g.role}|${g.on}|${g.target}" => merge(g, { function = fn })
    }
  ]...)
  buckets = {
    captures = google_storage_bucket.buckets["captures"].name
    evidence = google_storage_bucket.buckets["evidence"].name
  }
}

# One service account per function, holding only the grants listed for it in functions/catalog.ts.
resource "google_service_account" "functions" {
  for_each     = local.functions
  account_id   = "${var.name_prefix}-${each.value.account}"
  display_name = "speedcam ${each.key} function"
}

resource "google_project_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "project" }
  project  = var.project_id
  role     = each.value.role
  member   = google_service_account.functions[each.value.function].member
}

resource "google_pubsub_topic_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "topic" }
  topic    = google_pubsub_topic.topics[each.value.target].name
  role     = each.value.role
  member   = google_service_account.functions[each.value.function].member
}

resource "google_bigquery_dataset_iam_member" "grants" {
  for_each   = { for k, g in local.grants : k => g if g.on == "dataset" }
  dataset_id = google_bigquery_dataset.speedcam.dataset_id
  role       = each.value.role
  member     = google_service_account.functions[each.value.function].member
}

resource "google_storage_bucket_iam_member" "grants" {
  for_each = { for k, g in local.grants : k => g if g.on == "bucket" }
  bucket   = local.buckets[each.value.target]
  role     = each.value.role
  member   = google_service_account.functions[each.value.function].member
}

# Pub/Sub pushes to each function with an OIDC token of that function's own account: it may invoke its
# own service and nothing else.
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.push_functions
  location = var.region
  service  = google_cloudfunctions2_function.functions[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.functions[each.key].member
}

# The review function: each reviewer may invoke it; nobody else (never allUsers or allAuthenticatedUsers,
# which var.reviewers' validation refuses). The function records the caller's verified Google identity.
resource "google_cloud_run_service_iam_member" "reviewers" {
  for_each = merge([for k, f in local.functions : { for m in var.reviewers : "${k}|${m}" => { function = k, member = m } } if f.invokers == "reviewers"]...)
  location = var.region
  service  = google_cloudfunctions2_function.functions[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

# The Pub/Sub service agent mints those tokens (needed explicitly in projects created before April 2021).
resource "google_service_account_iam_member" "push_token" {
  for_each           = local.push_functions
  service_account_id = google_service_account.functions[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
  depends_on         = [time_sleep.service_agents]
}

# Cloud Build builds the functions as this account: logs, the image repository, the source bucket.
# Organisations with secure-by-default policies give the default build account no roles at all.
resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-${local.catalog.build_account}"
  display_name = "speedcam function builds"
}

resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_images" {
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.buckets["source"].name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

# IAM changes take up to a few minutes to apply everywhere: a build or a first push right after a grant
# can be refused. Everything that depends on a fresh grant waits behind this, so one apply succeeds.
resource "time_sleep" "iam_propagation" {
  create_duration = var.iam_propagation_wait
  depends_on = [
    google_project_iam_member.grants,
    google_pubsub_topic_iam_member.grants,
    google_bigquery_dataset_iam_member.grants,
    google_storage_bucket_iam_member.grants,
    google_service_account_iam_member.push_token,
    google_project_iam_member.build_logs,
    google_artifact_registry_repository_iam_member.build_images,
    google_storage_bucket_iam_member.build_source,
    google_pubsub_topic_iam_member.dead_letter_forwarding,
  ]
}

# Grants given after the functions exist (run.invoker, subscriber on the subscriptions) get their own wait
# before the first push.
resource "time_sleep" "invoker_propagation" {
  create_duration = var.iam_propagation_wait
  depends_on      = [google_cloud_run_service_iam_member.invoker, google_cloud_run_service_iam_member.reviewers]
}
