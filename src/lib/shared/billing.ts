/** The currency the hospital bills in: the services catalogue's prices and the revenue figures are in it. */
export const BILLING_CURRENCY = 'USD';
