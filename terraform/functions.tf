locals {
  # One entry per folder under functions/, mirroring functions/catalog.ts (a test keeps them in step).
  functions = {
    "vehicle-observations" = {
      entry_point = "vehicleObservations", trigger = "vehicle_observations", concurrency = 250, memory = "512Mi", max_instances = 20
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "non_fined_vehicles" },
        { role = "roles/pubsub.publisher", on = "topic", target = "speeding_vehicles" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
      ]
    }
    "fines" = {
      entry_point = "fines", trigger = "speeding_vehicles", concurrency = 4, memory = "1Gi", max_instances = 10
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "fine_notifications" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
        { role = "roles/storage.objectViewer", on = "bucket", target = "captures" },
        { role = "roles/storage.objectAdmin", on = "bucket", target = "evidence" },
      ]
    }
    "click-events" = {
      entry_point = "clickEvents", trigger = "click_events", concurrency = 250, memory = "512Mi", max_instances = 20
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
      ]
    }
    "transactions" = {
      entry_point = "transactions", trigger = "transactions", concurrency = 250, memory = "512Mi", max_instances = 20
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
      ]
    }
    "user-registrations" = {
      entry_point = "userRegistrations", trigger = "user_registrations", concurrency = 50, memory = "256Mi", max_instances = 5
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
      ]
    }
    "dead-letters" = {
      entry_point = "deadLetters", trigger = "dead_letters", concurrency = 50, memory = "256Mi", max_instances = 5
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
      ]
    }
    "flush" = {
      entry_point = "flush", trigger = "flush_ticks", concurrency = 1, memory = "512Mi", max_instances = 1
      grants = [
        { role = "roles/datastore.user", on = "project", target = "" },
        { role = "roles/bigquery.dataEditor", on = "dataset", target = "" },
        { role = "roles/bigquery.jobUser", on = "project", target = "" },
        { role = "roles/pubsub.publisher", on = "topic", target = "non_fined_vehicles" },
        { role = "roles/pubsub.publisher", on = "topic", target = "speeding_vehicles" },
        { role = "roles/pubsub.publisher", on = "topic", target = "fine_notifications" },
        { role = "roles/pubsub.publisher", on = "topic", target = "dead_letters" },
      ]
    }
  }

  function_env = merge(
    {
      GOOGLE_CLOUD_PROJECT       = var.project_id
      SPEEDCAM_WAREHOUSE         = "bigquery"
      SPEEDCAM_DATASET           = var.dataset
      SPEEDCAM_OBJECTS           = "gcs"
      SPEEDCAM_OCR               = "vision"
      SPEEDCAM_CAPTURES_BUCKET   = google_storage_bucket.captures.name
      SPEEDCAM_EVIDENCE_BUCKET   = google_storage_bucket.evidence.name
      SPEEDCAM_RETENTION_DAYS    = tostring(var.retention_days)
      TOPIC_VEHICLE_OBSERVATIONS = var.topics.vehicle_observations
      TOPIC_NON_FINED_VEHICLES   = var.topics.non_fined_vehicles
      TOPIC_SPEEDING_VEHICLES    = var.topics.speeding_vehicles
      TOPIC_FINE_NOTIFICATIONS   = var.topics.fine_notifications
      TOPIC_DEAD_LETTERS         = var.topics.dead_letters
      TOPIC_FLUSH_TICKS          = var.topics.flush_ticks
      TOPIC_CLICK_EVENTS         = var.topics.click_events
      TOPIC_TRANSACTIONS         = var.topics.transactions
      TOPIC_USER_REGISTRATIONS   = var.topics.user_registrations
    },
    var.radars_json == "" ? {} : { SPEEDCAM_RADARS = var.radars_json },
    var.pipelines_json == "" ? {} : { SPEEDCAM_PIPELINES = var.pipelines_json },
  )
}

# The build output packaged by `npm run package` (compiled dist/, package.json, lockfile, schemas/).
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/../.deploy/source"
  output_path = "${path.module}/../.deploy/source.zip"
}

# Named by content hash: a code change is a new object, so the functions redeploy; no change, no redeploy.
resource "google_storage_bucket_object" "source" {
  name   = "speedcam-${data.archive_file.source.output_sha256}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "functions" {
  for_each = local.functions
  name     = "${var.name_prefix}-${each.key}"
  location = var.region

  build_config {
    runtime     = "nodejs22"
    entry_point = each.value.entry_point
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.functions[each.key].email
    max_instance_count               = try(var.scaling[each.key].max_instances, each.value.max_instances)
    max_instance_request_concurrency = try(var.scaling[each.key].concurrency, each.value.concurrency)
    available_memory                 = try(var.scaling[each.key].memory, each.value.memory)
    # Concurrency above 1 needs at least one whole vCPU.
    available_cpu                  = try(var.scaling[each.key].concurrency, each.value.concurrency) > 1 ? "1" : "0.583"
    timeout_seconds                = 120
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_env
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.topics[each.value.trigger].id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.functions[each.key].email
  }

  depends_on = [google_project_service.apis, google_project_iam_member.grants]
}

# Terraform cannot reach the subscription that Eventarc creates for each trigger, so its dead-letter
# policy is set right after with gcloud (the same commands `speedcam deploy` runs).
resource "terraform_data" "dead_letter_policy" {
  for_each         = var.configure_dead_letter_policies ? { for k, v in local.functions : k => v if v.trigger != "dead_letters" } : {}
  triggers_replace = [google_cloudfunctions2_function.functions[each.key].event_trigger[0].trigger]
  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = <<-EOT
      set -euo pipefail
      sub=$(gcloud eventarc triggers describe "${google_cloudfunctions2_function.functions[each.key].event_trigger[0].trigger}" --location=${var.region} --project=${var.project_id} --format='value(transport.pubsub.subscription)')
      # The ack deadline is how long push waits for the function before delivering again: its timeout (a flush run lasts up to a minute).
      gcloud pubsub subscriptions update "$sub" --project=${var.project_id} --dead-letter-topic=${google_pubsub_topic.topics["dead_letters"].id} --max-delivery-attempts=10 --ack-deadline=120
      gcloud pubsub subscriptions add-iam-policy-binding "$sub" --project=${var.project_id} --member=serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com --role=roles/pubsub.subscriber >/dev/null
    EOT
  }
}
