locals {
  # APIs, TTL collections and table layouts: one list, also read by `speedcam deploy` (cli/deploy.ts).
  resources = jsondecode(file("${path.module}/resources.json"))
  apis      = [for a in local.resources.apis : "${a}.googleapis.com"]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

data "google_project" "this" {}
