output "topics" {
  description = "Pub/Sub topic ids by role."
  value       = { for k, t in google_pubsub_topic.topics : k => t.id }
}

output "subscriptions" {
  description = "Each function's push subscription."
  value       = { for k, s in google_pubsub_subscription.push : k => s.id }
}

output "buckets" {
  description = "Captures (camera photos), evidence (analysed photos) and function source buckets."
  value       = { for k, b in google_storage_bucket.buckets : k => b.name }
}

output "dataset" {
  description = "BigQuery dataset of the output tables."
  value       = google_bigquery_dataset.speedcam.id
}

output "functions" {
  description = "Deployed functions, their URLs and service accounts."
  value       = { for k, f in google_cloudfunctions2_function.functions : k => { name = f.name, uri = f.service_config[0].uri, service_account = google_service_account.functions[k].email } }
}

output "dashboard" {
  description = "The Cloud Monitoring dashboard."
  value       = google_monitoring_dashboard.pipelines.id
}

output "review_url" {
  description = "The review page (invoked only by var.reviewers: open it through `gcloud run services proxy`, see docs/review.md)."
  value       = google_cloudfunctions2_function.functions["review"].service_config[0].uri
}
