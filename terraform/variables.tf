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
  description = "Prefix of function, subscription, service account, bucket, metric and alert names."
  default     = "speedcam"
  validation {
    # The longest derived id is a service account, <prefix>-registrations, and those are at most 30
    # characters of [a-z0-9-], starting with a letter and not ending with '-' (test/unit/deploy/deploy.test.ts
    # derives every id from the longest prefix this allows).
    condition     = can(regex("^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix: 1-16 lower-case letters, digits or '-', starting with a letter, not ending with '-'."
  }
}

variable "topics" {
  type        = map(string)
  description = "Pub/Sub topic names that differ from the defaults, by key (functions.json lists every topic with its default name)."
  default     = {}
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

variable "firestore_database" {
  type        = string
  description = "\"create\": create the Firestore (default) database; \"existing\": the project already has one (creating it again fails)."
  default     = "create"
  validation {
    condition     = contains(["create", "existing"], var.firestore_database)
    error_message = "firestore_database: \"create\" or \"existing\"."
  }
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore (default) database when firestore_database = \"create\"."
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

variable "cars_api_url" {
  type        = string
  description = "SPEEDCAM_CARS_API: the cars API the fines function asks for a vehicle's photo when neither the observation's image_uri nor a camera capture has one (GET <url>?vehicle_id=…&radar_id=… answers {\"image_url\": …}); its host is allowed for photo fetches. Empty: no cars API."
  default     = ""
  validation {
    condition     = var.cars_api_url == "" || can(regex("^https?://[^/?#]+", var.cars_api_url))
    error_message = "cars_api_url: an http(s) URL, e.g. https://cars.example.com/api/vehicle-image."
  }
}

variable "flush_schedule" {
  type        = string
  description = "Cloud Scheduler cron of the flush (closes passages and windows, writes BigQuery)."
  default     = "* * * * *"
}

variable "scaling" {
  type = map(object({
    max_instances = optional(number)
    concurrency   = optional(number)
    memory        = optional(string)
    cpu           = optional(string)
  }))
  description = "Per-function overrides of max instances, concurrency, memory and CPU (keys: function names as declared in functions/catalog.ts; unset = its values)."
  default     = {}
}

variable "function_env" {
  type        = map(string)
  description = "Extra environment of every function (SPEEDCAM_* settings, see docs/configuration.md); overrides the defaults set in functions.tf."
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

variable "non_offender_retention_h" {
  type        = number
  description = "A passage that was not fined keeps its vehicle identifier this many hours (SPEEDCAM_NON_OFFENDER_RETENTION_H): Firestore TTL, the flush's pseudonymisation of vehicle_passages, and the captures bucket's lifecycle (in days, rounded up)."
  default     = 72
  validation {
    # (at most retention_days * 24 in effect: Firestore caps it; a check across variables needs Terraform 1.9)
    condition     = var.non_offender_retention_h >= 1
    error_message = "non_offender_retention_h: at least 1 (hours)."
  }
}

variable "iam_propagation_wait" {
  type        = string
  description = "How long the first apply waits after granting roles before building and pushing (IAM changes take time to apply)."
  default     = "90s"
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Notification channel ids (projects/P/notificationChannels/N) the alert policies notify; empty = alerts show in the console only."
  default     = []
}

variable "reviewers" {
  type        = list(string)
  description = "Who may use the review page and API (roles/run.invoker on the review function): IAM members such as user:ana@city.example or group:fine-reviewers@city.example. Never allUsers or allAuthenticatedUsers."
  default     = []
  validation {
    condition     = alltrue([for m in var.reviewers : can(regex("^(user|group|serviceAccount|domain):[^\\s,]+$", m))])
    error_message = "Each reviewer is user:<e-mail>, group:<e-mail>, serviceAccount:<e-mail> or domain:<domain>: the review function is never public."
  }
}

variable "review_alert_h" {
  type        = number
  description = "Alert when the oldest fine held for review has waited longer than this many hours (SPEEDCAM_REVIEW_ALERT_H)."
  default     = 24
}
