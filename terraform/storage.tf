# The project's buckets, all alike in what keeps them private: named <project>-<prefix>-<role>, in the region,
# uniform bucket-level access, public access prevention enforced. What differs by role is below: an optional
# retention policy, lifecycle rules, and an optional soft delete policy (none = Cloud Storage's default, 7 days).
locals {
  bucket_roles = {
    # Camera photos of vehicles not fined are gone after the non-offender retention (in whole days, rounded up:
    # 72 h = 3 days); a fine copies the photo it analysed into the evidence bucket first. No soft delete: a
    # deleted photo is not kept 7 more days.
    captures = {
      retention_s     = []
      lifecycle_rules = [{ age = ceil(var.non_offender_retention_h / 24), type = "Delete", storage_class = null }]
      soft_delete_s   = [0]
    }
    # Evidence of a fine cannot be altered or deleted while it may be contested: a retention policy, and no
    # object versioning (Cloud Storage refuses a bucket with both). An object is written once
    # (ifGenerationMatch=0); a rewrite is refused, so there are no old versions to keep.
    evidence = {
      retention_s     = [var.evidence_retention_days * 86400]
      lifecycle_rules = [{ age = var.evidence_retention_days + 30, type = "SetStorageClass", storage_class = "ARCHIVE" }]
      soft_delete_s   = []
    }
    # The function source zips; Cloud Build reads them as the build service account.
    source = {
      retention_s     = []
      lifecycle_rules = []
      soft_delete_s   = []
    }
  }
}

resource "google_storage_bucket" "buckets" {
  for_each                    = local.bucket_roles
  name                        = "${var.project_id}-${var.name_prefix}-${each.key}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  dynamic "retention_policy" {
    for_each = each.value.retention_s
    content {
      retention_period = retention_policy.value
    }
  }
  dynamic "lifecycle_rule" {
    for_each = each.value.lifecycle_rules
    content {
      condition {
        age = lifecycle_rule.value.age
      }
      action {
        type          = lifecycle_rule.value.type
        storage_class = lifecycle_rule.value.storage_class
      }
    }
  }
  dynamic "soft_delete_policy" {
    for_each = each.value.soft_delete_s
    content {
      retention_duration_seconds = soft_delete_policy.value
    }
  }
  depends_on = [google_project_service.apis]
}

# Each bucket was a resource of its own before: the same buckets, not new ones (the evidence bucket's retention
# policy would refuse the delete a rename without these implies).
moved {
  from = google_storage_bucket.captures
  to   = google_storage_bucket.buckets["captures"]
}
moved {
  from = google_storage_bucket.evidence
  to   = google_storage_bucket.buckets["evidence"]
}
moved {
  from = google_storage_bucket.source
  to   = google_storage_bucket.buckets["source"]
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
