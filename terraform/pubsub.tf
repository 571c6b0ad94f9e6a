locals {
  # Every topic the code declares (functions.json), renamed where var.topics says so.
  topics = merge({ for key, t in local.catalog.topics : key => t.name }, var.topics)
}

resource "google_pubsub_topic" "topics" {
  for_each   = local.topics
  name       = each.value
  depends_on = [google_project_service.apis]
}

# Pub/Sub forwards undeliverable messages to the dead-letters topic as its own service agent.
resource "google_pubsub_topic_iam_member" "dead_letter_forwarding" {
  topic      = google_pubsub_topic.topics["dead_letters"].name
  role       = "roles/pubsub.publisher"
  member     = local.pubsub_agent
  depends_on = [time_sleep.service_agents]
}

locals {
  policy = local.resources.subscriptions
}

# One push subscription per function, owned here (not by Eventarc): its retry and dead-letter policies are
# in the plan and drift shows. Exponential backoff (10 s doubling to 600 s) with 20 attempts spreads
# retries over hours, so a burst that meets max instances (429) does not exhaust a healthy message.
resource "google_pubsub_subscription" "push" {
  for_each                   = local.push_functions
  name                       = "${var.name_prefix}-${each.key}"
  topic                      = google_pubsub_topic.topics[each.value.trigger].id
  ack_deadline_seconds       = each.value.timeout_s
  message_retention_duration = "${each.value.retention_s}s"

  # Subscriptions expire after 31 days without activity by default: a quiet pipeline would lose its.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${local.policy.min_backoff_s}s"
    maximum_backoff = "${local.policy.max_backoff_s}s"
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter ? [google_pubsub_topic.topics["dead_letters"].id] : []
    content {
      dead_letter_topic     = dead_letter_policy.value
      max_delivery_attempts = local.policy.max_delivery_attempts
    }
  }

  push_config {
    # The topic path matches what the local stack posts to; functions/push.ts decodes the push body itself.
    push_endpoint = "${google_cloudfunctions2_function.functions[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.topics[each.value.trigger].name}"
    oidc_token {
      service_account_email = google_service_account.functions[each.key].email
      audience              = google_cloudfunctions2_function.functions[each.key].service_config[0].uri
    }
  }

  depends_on = [time_sleep.invoker_propagation]
}

# Dead-lettering needs the service agent to acknowledge the forwarded message on the source subscription.
resource "google_pubsub_subscription_iam_member" "dead_letter_ack" {
  for_each     = { for k, f in local.push_functions : k => f if f.dead_letter }
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
