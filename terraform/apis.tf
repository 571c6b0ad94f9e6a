locals {
  # APIs, TTL collections, index exemptions, table layouts, subscription policy, log metrics and alerts:
  # one declaration, also read by `speedcam deploy` (cli/deploy.ts). Function specs: functions.json.
  resources = jsondecode(file("${path.module}/resources.json"))
  apis      = [for a in local.resources.apis : "${a}.googleapis.com"]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

data "google_project" "this" {}

# Enabling an API creates its service agent (Pub/Sub's, Cloud Scheduler's) a little later: grants to the
# agent wait behind this on the first apply.
resource "time_sleep" "service_agents" {
  create_duration = var.iam_propagation_wait
  depends_on      = [google_project_service.apis]
}

locals {
  # Google-managed identities that act on speedcam's resources.
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
