import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/** vehicle-observations → parse, passage state, decision (non-fined-vehicles / speeding-vehicles). */
pushFunction('vehicleObservations', (msg) => runtime().speedCheck.handle(msg));
