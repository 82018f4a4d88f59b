/** Builds small ENTSO-E documents as text, for tests: a string template, independent of gridstream's parser. */
export interface XmlPeriod {
  readonly start: string;
  readonly end: string;
  readonly resolution: string;
  readonly points: readonly (readonly [position: number, value: number | string])[];
}
export interface XmlSeries {
  readonly inDomain?: string;
  readonly outDomain?: string;
  readonly biddingZone?: boolean;
  readonly psrType?: string;
  readonly unit?: string;
  readonly currency?: string;
  readonly curveType?: 'A01' | 'A03';
  readonly contractType?: string;
  readonly sequence?: string;
  readonly businessType?: string;
  readonly periods: readonly XmlPeriod[];
}
export interface XmlDocument {
  readonly root?: 'GL_MarketDocument' | 'Publication_MarketDocument';
  readonly mRID?: string;
  readonly revision?: number;
  readonly type: string;
  readonly processType?: string;
  readonly series: readonly XmlSeries[];
}

export function entsoeXml(doc: XmlDocument): string {
  const root =
    doc.root ??
    (['A75', 'A65', 'A69', 'A71', 'A68'].includes(doc.type) ? 'GL_MarketDocument' : 'Publication_MarketDocument');
  const series = doc.series.map((s, i) => {
    const domain = (role: 'in' | 'out', eic: string | undefined) =>
      eic === undefined
        ? ''
        : `<${role}${s.biddingZone === false ? '_Domain' : 'BiddingZone_Domain'}.mRID codingScheme="A01">${eic}</${role}${s.biddingZone === false ? '_Domain' : 'BiddingZone_Domain'}.mRID>`;
    const unit =
      s.currency === undefined
        ? `<quantity_Measure_Unit.name>${s.unit ?? 'MAW'}</quantity_Measure_Unit.name>`
        : `<currency_Unit.name>${s.currency}</currency_Unit.name><price_Measure_Unit.name>${s.unit ?? 'MWH'}</price_Measure_Unit.name>`;
    const amount = s.currency === undefined ? 'quantity' : 'price.amount';
    const periods = s.periods
      .map(
        (p) =>
          `<Period><timeInterval><start>${p.start}</start><end>${p.end}</end></timeInterval><resolution>${p.resolution}</resolution>${p.points
            .map(([pos, v]) => `<Point><position>${pos}</position><${amount}>${v}</${amount}></Point>`)
            .join('')}</Period>`,
      )
      .join('');
    return `<TimeSeries><mRID>${i + 1}</mRID><businessType>${s.businessType ?? 'A01'}</businessType>${domain('in', s.inDomain)}${domain('out', s.outDomain)}${
      s.contractType === undefined
        ? ''
        : `<contract_MarketAgreement.type>${s.contractType}</contract_MarketAgreement.type>`
    }${unit}${s.sequence === undefined ? '' : `<classificationSequence_AttributeInstanceComponent.position>${s.sequence}</classificationSequence_AttributeInstanceComponent.position>`}<curveType>${s.curveType ?? 'A01'}</curveType>${
      s.psrType === undefined ? '' : `<MktPSRType><psrType>${s.psrType}</psrType></MktPSRType>`
    }${periods}</TimeSeries>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="urn:test"><mRID>${doc.mRID ?? 'doc-1'}</mRID><revisionNumber>${doc.revision ?? 1}</revisionNumber><type>${doc.type}</type>${
    doc.processType === undefined ? '' : `<process.processType>${doc.processType}</process.processType>`
  }${series.join('')}</${root}>`;
}
