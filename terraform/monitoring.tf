# The operators' page Dataflow used to give them: backlog and oldest unacked message per subscription,
# dead letters per reason, flush lag, deliveries by response class, instances, latency, billable time.
resource "google_monitoring_dashboard" "pipelines" {
  dashboard_json = replace(file("${path.module}/dashboard.json"), "{prefix}", var.name_prefix)
  depends_on     = [google_logging_metric.metrics]
}

resource "google_monitoring_alert_policy" "alerts" {
  for_each              = local.resources.alerts
  display_name          = "${var.name_prefix}: ${each.value.display_name}"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
  }

  conditions {
    display_name = each.value.display_name

    dynamic "condition_threshold" {
      for_each = each.value.kind == "threshold" ? [each.value] : []
      content {
        filter          = replace(condition_threshold.value.filter, "{prefix}", var.name_prefix)
        comparison      = condition_threshold.value.comparison
        threshold_value = each.key == "review-queue-age" ? var.review_alert_h * 3600 : condition_threshold.value.threshold
        duration        = "${condition_threshold.value.duration_s}s"
        aggregations {
          alignment_period     = "${condition_threshold.value.alignment_s}s"
          per_series_aligner   = condition_threshold.value.aligner
          cross_series_reducer = condition_threshold.value.reducer
          group_by_fields      = condition_threshold.value.group_by
        }
      }
    }

    dynamic "condition_absent" {
      for_each = each.value.kind == "absent" ? [each.value] : []
      content {
        filter   = replace(condition_absent.value.filter, "{prefix}", var.name_prefix)
        duration = "${condition_absent.value.duration_s}s"
        aggregations {
          alignment_period     = "${condition_absent.value.alignment_s}s"
          per_series_aligner   = condition_absent.value.aligner
          cross_series_reducer = condition_absent.value.reducer
          group_by_fields      = condition_absent.value.group_by
        }
      }
    }
  }

  depends_on = [google_logging_metric.metrics]
}
