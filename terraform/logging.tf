locals {
  exclusion = local.resources.request_log_exclusion
}

# Cloud Run logs one request entry per push delivery (~10⁸ a month at the seeds' load). The successful ones
# say nothing the functions' own logs and Cloud Run's request metrics do not: they are not stored.
# (Exclusions apply to the _Default sink; metrics and failed requests are kept.)
resource "google_logging_project_exclusion" "request_logs" {
  name        = replace(local.exclusion.name, "{prefix}", var.name_prefix)
  description = local.exclusion.description
  filter      = replace(local.exclusion.filter, "{prefix}", var.name_prefix)
  depends_on  = [google_project_service.apis]
}

# Counters and distributions from the functions' structured logs, for the dashboard and the alerts.
resource "google_logging_metric" "metrics" {
  for_each         = local.resources.log_metrics
  name             = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  filter           = replace(each.value.filter, "{prefix}", var.name_prefix)
  value_extractor  = each.value.value_extractor == "" ? null : each.value.value_extractor
  label_extractors = each.value.labels

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = each.value.value_type
    unit        = "1"
    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  dynamic "bucket_options" {
    for_each = each.value.buckets == null ? [] : [each.value.buckets]
    content {
      exponential_buckets {
        num_finite_buckets = bucket_options.value.num_finite_buckets
        growth_factor      = bucket_options.value.growth_factor
        scale              = bucket_options.value.scale
      }
    }
  }
  depends_on = [google_project_service.apis]
}
