resource "google_pubsub_topic" "topics" {
  for_each   = var.topics
  name       = each.value
  depends_on = [google_project_service.apis]
}

# Pub/Sub forwards undeliverable messages to the dead-letters topic as its own service agent.
resource "google_pubsub_topic_iam_member" "dead_letter_forwarding" {
  topic  = google_pubsub_topic.topics["dead_letters"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
