variable "project_id" {
  type        = string
  description = "Google Cloud project to deploy speedcam into."
}

variable "region" {
  type        = string
  description = "Region of the functions, buckets and scheduler job."
  default     = "us-east1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of function, service account and bucket names."
  default     = "speedcam"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2-21 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "topics" {
  type = object({
    vehicle_observations = string
    non_fined_vehicles   = string
    speeding_vehicles    = string
    fine_notifications   = string
    dead_letters         = string
    flush_ticks          = string
    click_events         = string
    transactions         = string
    user_registrations   = string
  })
  description = "Pub/Sub topic names (the defaults are DESIGN.md's)."
  default = {
    vehicle_observations = "vehicle-observations"
    non_fined_vehicles   = "non-fined-vehicles"
    speeding_vehicles    = "speeding-vehicles"
    fine_notifications   = "fine-notifications"
    dead_letters         = "dead-letters"
    flush_ticks          = "flush-ticks"
    click_events         = "click-events"
    transactions         = "transactions"
    user_registrations   = "user-registrations"
  }
}

variable "dataset" {
  type        = string
  description = "BigQuery dataset of the output tables."
  default     = "speedcam"
}

variable "bigquery_location" {
  type        = string
  description = "Location of the BigQuery dataset."
  default     = "US"
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore (default) database, created if it does not exist."
  default     = "nam5"
}

variable "radars_json" {
  type        = string
  description = "Radars as JSON (SPEEDCAM_RADARS: [{id, entry:[lat,lon], exit:[lat,lon], ...}]); empty = the seed's 5th Avenue radar."
  default     = ""
}

variable "pipelines_json" {
  type        = string
  description = "SPEEDCAM_PIPELINES: per window pipeline (clicks, transactions) event_time (publish_time | payload | attribute:NAME), timezone, window_s, lateness_s, late (dead_letter | update), as JSON; empty = the seeds' behaviour (publish time, 60 s and 30 s windows, 30 s lateness)."
  default     = ""
  validation {
    condition     = var.pipelines_json == "" || can(keys(jsondecode(var.pipelines_json)))
    error_message = "pipelines_json: a JSON object keyed by pipeline, e.g. {\"transactions\":{\"event_time\":\"payload\",\"timezone\":\"Europe/Madrid\"}}; the functions check the rest at start."
  }
}

variable "flush_schedule" {
  type        = string
  description = "Cloud Scheduler cron of the flush (closes passages and windows, writes BigQuery)."
  default     = "* * * * *"
}

variable "scaling" {
  type = map(object({
    max_instances = number
    concurrency   = number
    memory        = string
  }))
  description = "Per-function overrides of max instances, concurrency and memory (keys: folder names under functions/)."
  default     = {}
}

variable "retention_days" {
  type        = number
  description = "Firestore state expires (TTL) this many days after its last write."
  default     = 7
}

variable "evidence_retention_days" {
  type        = number
  description = "Analysed photos cannot be deleted for this many days (bucket retention policy)."
  default     = 400
}

variable "captures_lifecycle_days" {
  type        = number
  description = "Camera photos are deleted after this many days."
  default     = 30
}

variable "configure_dead_letter_policies" {
  type        = bool
  description = "After apply, set the dead-letter policy of each trigger's Eventarc-managed subscription with gcloud (needs gcloud where terraform runs)."
  default     = true
}
