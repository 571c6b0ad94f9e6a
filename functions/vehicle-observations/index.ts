import { pushFunction } from '../push.js';

/** vehicle-observations → parse, passage state, decision (non-fined-vehicles / speeding-vehicles). */
pushFunction('vehicleObservations', (rt) => rt.speedCheck);
