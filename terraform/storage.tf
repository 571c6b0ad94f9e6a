resource "google_storage_bucket" "captures" {
  name                        = "${var.project_id}-${var.name_prefix}-captures"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  lifecycle_rule {
    condition {
      age = var.captures_lifecycle_days
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "evidence" {
  name                        = "${var.project_id}-${var.name_prefix}-evidence"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  # Evidence of a fine cannot be deleted while it may be contested.
  retention_policy {
    retention_period = var.evidence_retention_days * 86400
  }
  lifecycle_rule {
    condition {
      age = var.evidence_retention_days + 30
    }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  depends_on                  = [google_project_service.apis]
}
