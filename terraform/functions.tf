locals {
  # Every function's environment. One line per setting; var.function_env adds or overrides any of them
  # (the same keys `speedcam deploy --env KEY=VALUE` takes).
  function_env = merge(
    {
      GOOGLE_CLOUD_PROJECT     = var.project_id
      SPEEDCAM_WAREHOUSE       = "bigquery"
      SPEEDCAM_DATASET         = var.dataset
      SPEEDCAM_OBJECTS         = "gcs"
      SPEEDCAM_OCR             = "model" # or "vision" through var.function_env (docs/ocr.md)
      SPEEDCAM_CAPTURES_BUCKET = google_storage_bucket.buckets["captures"].name
      SPEEDCAM_EVIDENCE_BUCKET = google_storage_bucket.buckets["evidence"].name
      SPEEDCAM_RETENTION_DAYS  = tostring(var.retention_days)
      # Non-offenders' identifiers: Firestore TTL, the flush's pseudonymisation; the captures lifecycle (storage.tf).
      SPEEDCAM_NON_OFFENDER_RETENTION_H = tostring(var.non_offender_retention_h)
      # The flush's "review queue" line flags the age the alert fires at.
      SPEEDCAM_REVIEW_ALERT_H = tostring(var.review_alert_h)
      # The metadata server is there in Google Cloud; the clients need not probe for it.
      METADATA_SERVER_DETECTION = "assume-present"
    },
    # Each topic's name, in the variable its declaration names (TOPIC_*).
    { for key, t in local.catalog.topics : t.env => local.topics[key] },
    var.radars_json == "" ? {} : { SPEEDCAM_RADARS = var.radars_json },
    var.pipelines_json == "" ? {} : { SPEEDCAM_PIPELINES = var.pipelines_json },
    var.cars_api_url == "" ? {} : { SPEEDCAM_CARS_API = var.cars_api_url },
    var.function_env,
  )
}

# The build output packaged by `npm run package` (compiled dist/, package.json, lockfile, .npmrc, schemas/).
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/../.deploy/source"
  output_path = "${path.module}/../.deploy/source.zip"
}

# Named by content hash: a code change is a new object, so the functions redeploy; no change, no redeploy.
resource "google_storage_bucket_object" "source" {
  name   = "speedcam-${data.archive_file.source.output_sha256}.zip"
  bucket = google_storage_bucket.buckets["source"].name
  source = data.archive_file.source.output_path
}

# HTTP functions (no Eventarc trigger): their push subscriptions (pubsub.tf) deliver to them, or, for the
# review function (trigger null), people do: only var.reviewers may invoke it (iam.tf).
resource "google_cloudfunctions2_function" "functions" {
  for_each = local.functions
  name     = "${var.name_prefix}-${each.key}"
  location = var.region

  build_config {
    runtime           = "nodejs22"
    entry_point       = each.value.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = google_storage_bucket.buckets["source"].name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.functions[each.key].email
    max_instance_count               = coalesce(try(var.scaling[each.key].max_instances, null), each.value.max_instances)
    max_instance_request_concurrency = coalesce(try(var.scaling[each.key].concurrency, null), each.value.concurrency)
    available_memory                 = coalesce(try(var.scaling[each.key].memory, null), each.value.memory)
    available_cpu                    = coalesce(try(var.scaling[each.key].cpu, null), each.value.cpu)
    timeout_seconds                  = each.value.timeout_s
    # Pub/Sub push from the same project counts as internal traffic; nothing else reaches those functions.
    # The review page is opened from reviewers' browsers: reachable, but invoked only by var.reviewers.
    ingress_settings               = each.value.ingress == "all" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_env
  }

  depends_on = [time_sleep.iam_propagation]
}
