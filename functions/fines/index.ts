// The photo, OCR and drawing code (sharp) loads with this function, not on its first delivery.
import '../../shared/fines/fine.js';
import { pushFunction } from '../push.js';

/** speeding-vehicles → photo, plate OCR, analysed photo (evidence bucket), fine record, fine-notifications. */
pushFunction('fines', (rt) => rt.fines);
