# Cloud Scheduler → flush-ticks topic → flush function.
resource "google_cloud_scheduler_job" "flush" {
  name      = "${var.name_prefix}-flush"
  region    = var.region
  schedule  = var.flush_schedule
  time_zone = "Etc/UTC"
  pubsub_target {
    topic_name = google_pubsub_topic.topics["flush_ticks"].id
    data       = base64encode("{\"tick\":\"flush\"}")
  }
  depends_on = [google_project_service.apis]
}
