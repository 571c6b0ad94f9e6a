# Cloud Scheduler → flush-ticks topic → flush function. Scheduler publishes as its own service agent
# (service-NUMBER@gcp-sa-cloudscheduler), which holds the publish permission: no service account of ours.
resource "google_cloud_scheduler_job" "flush" {
  name      = "${var.name_prefix}-flush"
  region    = var.region
  schedule  = var.flush_schedule
  time_zone = "Etc/UTC"
  pubsub_target {
    # The full topic path: a bare name would be resolved against some default project.
    topic_name = google_pubsub_topic.topics["flush_ticks"].id
    data       = base64encode("{\"tick\":\"flush\"}")
  }
  depends_on = [google_project_service.apis]
}
