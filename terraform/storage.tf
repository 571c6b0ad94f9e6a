resource "google_storage_bucket" "captures" {
  name                        = "${var.project_id}-${var.name_prefix}-captures"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Camera photos of vehicles not fined are gone after the non-offender retention (in whole days, rounded up:
  # 72 h = 3 days); a fine copies the photo it analysed into the evidence bucket first. No soft delete: a
  # deleted photo is not kept 7 more days.
  lifecycle_rule {
    condition {
      age = ceil(var.non_offender_retention_h / 24)
    }
    action {
      type = "Delete"
    }
  }
  soft_delete_policy {
    retention_duration_seconds = 0
  }
  depends_on = [google_project_service.apis]
}

# Evidence of a fine cannot be altered or deleted while it may be contested: a retention policy, and no
# object versioning (Cloud Storage refuses a bucket with both). An object is written once
# (ifGenerationMatch=0); a rewrite is refused, so there are no old versions to keep.
resource "google_storage_bucket" "evidence" {
  name                        = "${var.project_id}-${var.name_prefix}-evidence"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
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

# The function source zips; Cloud Build reads them as the build service account.
resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  depends_on                  = [google_project_service.apis]
}

# The functions' container images. Old images are deleted; the last few are kept for a rollback.
resource "google_artifact_registry_repository" "functions" {
  repository_id = "${var.name_prefix}-functions"
  location      = var.region
  format        = "DOCKER"
  description   = "speedcam function images (built by Cloud Build)"
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 3
    }
  }
  depends_on = [google_project_service.apis]
}
