// The deployed source's entry module: importing registers every function with functions-framework;
// `--entry-point` (gcloud) or `entry_point` (Terraform) picks one.
import './vehicle-observations/index.js';
import './fines/index.js';
import './click-events/index.js';
import './transactions/index.js';
import './user-registrations/index.js';
import './dead-letters/index.js';
import './flush/index.js';
