import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/** transactions → 30-second windows over all transactions → transaction_windows (through the flush). */
pushFunction('transactions', (msg) => runtime().transactions.handle(msg));
