import { issueFine } from '../../shared/fines/fine.js';
import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/** speeding-vehicles → photo, plate OCR, analysed photo (evidence bucket), fine record, fine-notifications. */
pushFunction('fines', (msg) => issueFine(runtime().fineDeps, msg));
